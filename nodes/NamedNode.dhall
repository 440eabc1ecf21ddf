--| A node with the name edges refer to it by.
{ name : Text, node : ./Node.dhall }
