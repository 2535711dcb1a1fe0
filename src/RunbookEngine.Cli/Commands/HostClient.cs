using System.Net.Http.Json;
using System.Text.Json;

namespace RunbookEngine.Cli.Commands;

/// <summary>Talks to a RunbookEngine host's API for the commands that take --server.</summary>
internal sealed class HostClient(Uri server) : IDisposable
{
    private readonly HttpClient _http = Create(server);

    /// <summary>
    /// A client for the host; with <c>$RUNBOOKENGINE_TOKEN</c> set it sends it as a bearer token, which a host
    /// reached from another machine requires (RunbookEngine:Access:Tokens). An environment variable, not an option,
    /// so the token never shows in the process list or the shell history.
    /// </summary>
    private static HttpClient Create(Uri server)
    {
        var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromMinutes(6) };
        if (Environment.GetEnvironmentVariable("RUNBOOKENGINE_TOKEN") is { Length: > 0 } token)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    public static System.CommandLine.Option<string> ServerOption()
    {
        var option = new System.CommandLine.Option<string>("--server", "-s")
        {
            Description = "The host's address; default $RUNBOOKENGINE_SERVER, else http://127.0.0.1:5080.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RUNBOOKENGINE_SERVER") is { Length: > 0 } s ? s : "http://127.0.0.1:5080",
        };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                result.AddError($"--server '{value}' is not an http(s) address such as http://127.0.0.1:5080");
            }
        });
        return option;
    }

    public async Task<(int Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>A GET whose answer is kept as text: the CSV reports are not JSON, so <see cref="SendAsync"/> cannot read them.</summary>
    public async Task<(int Status, string Text)> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await _http.SendAsync(request, cancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    public static string Describe(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object)
        {
            return "no details";
        }

        var message = error.TryGetProperty("error", out var e) ? e.GetString() : error.ToString();
        return error.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Array
            ? $"{message}\n  {string.Join("\n  ", list.EnumerateArray().Select(x => x.GetString()))}"
            : message ?? "";
    }

    public void Dispose() => _http.Dispose();
}
