--| Every node kind: the union graph files pick from (the Rust twin is `NodeSpec`).
< Jitter : (./jitter.dhall).Type | Vhost : (./vhost.dhall).Type >
