printf X | dd of=blocks/01M97CSF192PHZJVENP0T399MZ/chunks/000001 bs=1 seek=20 conv=notrunc 2>/dev/null
cat > rules.yml <<'EOF'
groups:
  - name: g
    rules:
      - record: job:http_requests:rate1m
        expr: sum by (job) (rate(http_requests_total[1m]))
EOF
"$bin" rules eval rules.yml --tsdb blocks --start 1700000000 --end 1700000060 --output "$out"
