mkdir empty
"$bin" query-range --tsdb empty --start 1700000000 --end 1700000060 --step 15 up
