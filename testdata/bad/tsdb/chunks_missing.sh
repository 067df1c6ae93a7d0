rm blocks/01M97CSF192PHZJVENP0T399MZ/chunks/000001
"$bin" query --tsdb blocks --time 1700000060 http_requests_total
