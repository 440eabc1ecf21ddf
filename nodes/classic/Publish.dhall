--| srs.conf `vhost { publish { ... } }`, SRS's names and defaults (milliseconds).
{ Type = { firstpkt_timeout : Natural, normal_timeout : Natural }
, default = { firstpkt_timeout = 20000, normal_timeout = 5000 }
}
