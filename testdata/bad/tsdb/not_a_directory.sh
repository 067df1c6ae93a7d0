touch file
"$bin" query --tsdb file --time 1700000060 up
