mkdir head/wal/checkpoint.00000005
echo hi > head/wal/checkpoint.00000005/00000000
"$bin" query --tsdb head --time 2026-12-07T04:41:25.6Z up
