--| srs.conf `vhost { cluster { mode remote; origin a:1935 b:1935; token_traverse on; } }`:
--  present only in `mode remote` (an edge); `toGraph` makes the vhost's `EdgePull` (players pull
--  from the origins) and `EdgePush` (publishers are pushed to them).
{ Type = { origin : List Text, token_traverse : Bool }
, default = { origin = [] : List Text, token_traverse = False }
}
