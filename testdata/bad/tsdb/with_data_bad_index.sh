printf X | dd of=blocks/01M97CSF192PHZJVENP0T399MZ/index bs=1 seek=60 conv=notrunc 2>/dev/null
printf 'up 1 1700000000\n# EOF\n' > up.om
"$bin" query --data up.om --tsdb blocks --time 1700000060 up
