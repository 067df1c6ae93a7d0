echo '{' > blocks/01M97CSF192PHZJVENP0T399MZ/meta.json
"$bin" tsdb info blocks
