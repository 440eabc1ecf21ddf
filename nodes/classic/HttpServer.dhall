--| srs.conf `http_server { ... }`; `https` (when enabled) serves everything again over HTTPS.
let Https = ./Https.dhall

in  { Type =
        { listen : Text, dir : Text, crossdomain : Bool, https : Optional Https.Type }
    , default =
      { listen = "8080"
      , dir = "./objs/nginx/html"
      , crossdomain = True
      , https = None Https.Type
      }
    }
