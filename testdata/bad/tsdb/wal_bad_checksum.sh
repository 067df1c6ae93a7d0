printf X | dd of=head/wal/00000000 bs=1 seek=100 conv=notrunc 2>/dev/null
touch head/wal/00000001
"$bin" query --tsdb head --time 2026-12-07T04:41:25.6Z up
