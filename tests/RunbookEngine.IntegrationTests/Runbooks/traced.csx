// ---
// description: Three steps, the second calling an HTTP API; logs from each; answers TraceMe alerts; for trace and log tests
// alerts:
//   - name: TraceMe
// parameters:
//   url: { type: string, default: "", from: annotations.url }
// ---
var url = Params.Get<string>("url");
await Step("look around", ct =>
{
    Log.Info("looking around");
    return Task.CompletedTask;
});

await Step("call the api", async ct =>
{
    if (url.Length > 0)
    {
        using var http = new System.Net.Http.HttpClient();
        using var response = await http.GetAsync(url, ct);
        Log.Info($"the API answered {(int)response.StatusCode}");
    }
});

await Step("report", ct =>
{
    Log.Warn("all done");
    return Task.CompletedTask;
});
