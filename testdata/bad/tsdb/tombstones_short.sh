echo x > blocks/01M97CSF192PHZJVENP0T399MZ/tombstones
"$bin" query --tsdb blocks --time 1700000060 http_requests_total
