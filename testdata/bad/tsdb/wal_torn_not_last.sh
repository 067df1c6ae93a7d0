truncate -s 300 head/wal/00000000
touch head/wal/00000001
"$bin" query --tsdb head --time 2026-12-07T04:41:25.6Z up
