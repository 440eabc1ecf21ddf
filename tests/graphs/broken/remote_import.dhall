-- expect: remote import `https://example.com/package.dhall` refused
let srs = https://example.com/package.dhall
in  srs
