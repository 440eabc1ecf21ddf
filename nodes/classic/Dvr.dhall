--| srs.conf `vhost { dvr { ... } }` (present = `enabled on`): recording to FLV or MP4 files.
--  Same fields and defaults as the `Dvr` node.
(../dvr.dhall)
