--| Prelude's `Optional/toList`, kept local because remote imports are off.
let optionalToList
    : forall (a : Type) -> Optional a -> List a
    = \(a : Type) -> \(o : Optional a) -> merge { None = [] : List a, Some = \(x : a) -> [ x ] } o

let example = assert : optionalToList Natural (Some 1) === [ 1 ]

in  optionalToList
