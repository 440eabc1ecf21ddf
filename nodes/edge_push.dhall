--| `EdgePush`: an edge's publishers (SRS's `cluster { mode remote; origin ...; }`): a stream
--  published here is pushed to the first origin that takes it, the next at once when one fails.
--  Streams an `EdgePull` brought here are not pushed back. `token_traverse`: publishers are
--  admitted only if an origin accepts a connect with their URL (its `on_connect` decides).
--
--  srs.node "edge_push" (srs.Node.EdgePush srs.EdgePush::{ origin = [ "10.0.0.1:1935" ] })
{ Type = { origin : List Text, token_traverse : Bool }
, default = { origin = [] : List Text, token_traverse = False }
}
