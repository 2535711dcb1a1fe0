namespace RunbookEngine.Sdk.Hosting;

/// <summary>Replaces every known secret value in a text with <see cref="Mask"/>. One per run; thread-safe.</summary>
/// <remarks>Values shorter than <see cref="MinimumLength"/> characters are not masked: hiding every "1" or "ab" in output would make it unreadable while protecting nothing.</remarks>
public sealed class Redactor
{
    /// <summary>What a secret is replaced with.</summary>
    public const string Mask = "***";

    /// <summary>The shortest value that is masked.</summary>
    public const int MinimumLength = 3;

    private readonly Lock _gate = new();

    // Longest first, so a secret that contains another is masked whole.
    private string[] _secrets = [];

    /// <summary>Adds a secret value; from now on it is masked.</summary>
    /// <param name="secret">The value.</param>
    public void Add(string? secret)
    {
        if (secret is null || secret.Length < MinimumLength)
        {
            return;
        }

        lock (_gate)
        {
            if (Array.IndexOf(_secrets, secret) >= 0)
            {
                return;
            }

            // JSON escapes '+', '<', '&', quotes and non-ASCII by default: a token such as "ab+cd" appears as
            // "ab\u002Bcd" in a serialised step result, which decodes back to the secret, so that spelling is masked too.
            var escaped = System.Text.Encodings.Web.JavaScriptEncoder.Default.Encode(secret);
            // A token put in a query string is percent-encoded ("ab%2Bcd%2F%3D"), which a URL decodes back to the secret.
            var urlEncoded = Uri.EscapeDataString(secret);
            _secrets = [.. _secrets.Append(secret).Append(escaped).Append(urlEncoded).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
        }
    }

    /// <summary>The text with every known secret masked.</summary>
    /// <param name="text">The text to clean.</param>
    /// <returns>The cleaned text.</returns>
    public string Redact(string text)
    {
        var secrets = Volatile.Read(ref _secrets);
        foreach (var secret in secrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }

    /// <summary>The text with every known secret masked, or null.</summary>
    /// <param name="text">The text to clean.</param>
    /// <returns>The cleaned text.</returns>
    public string? RedactOrNull(string? text) => text is null ? null : Redact(text);
}
