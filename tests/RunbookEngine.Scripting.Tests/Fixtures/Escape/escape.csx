// ---
// description: Tries to load a file outside its folder
// ---
#load "../outside.csx"

Log.Info("never compiled");
