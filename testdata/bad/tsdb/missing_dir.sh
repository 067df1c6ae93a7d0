"$bin" query --tsdb nosuch --time 1700000060 up
