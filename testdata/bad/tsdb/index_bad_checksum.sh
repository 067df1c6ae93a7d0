printf X | dd of=blocks/01M97CSF192PHZJVENP0T399MZ/index bs=1 seek=60 conv=notrunc 2>/dev/null
"$bin" query --tsdb blocks --time 1700000060 http_requests_total
