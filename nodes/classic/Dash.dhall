--| srs.conf `vhost { dash { ... } }`: SRS's names and defaults (seconds), plus `segment_template`.
--  Present (`Some`) means enabled; it becomes a `DashOut` node named "<vhost>/dash".
../dash_out.dhall
