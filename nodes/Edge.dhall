--| Media flows from the node named `from` to the node named `to`.
{ from : Text, to : Text }
