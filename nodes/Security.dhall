--| srs.conf `vhost { security { ... } }`: `allow|deny publish|play all|ip|cidr` rules, in SRS's
--  order: a matching deny denies; then, if any allow rule exists for the method, one must match.
--
--  security = Some srs.Security::{ rules = [ srs.Security.deny srs.Security.Method.Play "127.0.0.2" ] }
let Action = < Allow | Deny >

let Method = < Publish | Play >

let Rule = { action : Action, method : Method, target : Text }

let allow = \(method : Method) -> \(target : Text) -> { action = Action.Allow, method, target } : Rule

let deny = \(method : Method) -> \(target : Text) -> { action = Action.Deny, method, target } : Rule

in  { Type = { enabled : Bool, rules : List Rule }
    , default = { enabled = True, rules = [] : List Rule }
    , Action
    , Method
    , Rule
    , allow
    , deny
    }
