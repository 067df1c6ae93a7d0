printf X | dd of=head/wal/00000000 bs=1 seek=100 conv=notrunc 2>/dev/null
touch head/wal/00000001
"$bin" tsdb info head
