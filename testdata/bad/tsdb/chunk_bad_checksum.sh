printf X | dd of=blocks/01M97CSF192PHZJVENP0T399MZ/chunks/000001 bs=1 seek=20 conv=notrunc 2>/dev/null
"$bin" query-range --tsdb blocks --start 1700000000 --end 1700000060 --step 15 'rate(http_requests_total[1m])'
