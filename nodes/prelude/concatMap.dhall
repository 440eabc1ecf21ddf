--| Prelude's `List/concatMap`, kept local because remote imports are off.
let concatMap
    : forall (a : Type) -> forall (b : Type) -> (a -> List b) -> List a -> List b
    = \(a : Type) ->
      \(b : Type) ->
      \(f : a -> List b) ->
      \(xs : List a) ->
        List/build
          b
          ( \(list : Type) ->
            \(cons : b -> list -> list) ->
              List/fold a xs list (\(x : a) -> List/fold b (f x) list cons)
          )

let example = assert : concatMap Natural Natural (\(n : Natural) -> [ n, n ]) [ 1, 2 ] === [ 1, 1, 2, 2 ]

in  concatMap
