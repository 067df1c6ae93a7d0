truncate -s 100 blocks/01M97CSF192PHZJVENP0T399MZ/index
"$bin" query --tsdb blocks --time 1700000060 http_requests_total
