// ---
// description: Greets someone, through a helper
// parameters:
//   who: { type: string, default: world }
// ---
#load "lib/greet.csx"

var greeting = await Step("greet", ct => Task.FromResult(Greeting(Params.Get<string>("who"))));
Log.Info(greeting);
