using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RunbookEngine.Alerts.Sources;

/// <summary>
/// HMAC-SHA256 webhook signature checks. Every comparison is constant-time over the decoded bytes; a missing, malformed or
/// wrong-length signature is false, never an exception. An empty secret verifies nothing: anyone can compute that MAC.
/// </summary>
public static class WebhookSignatures
{
    private const int MacLength = 32;

    /// <summary>Whether <paramref name="hexSignature"/> is the hex HMAC-SHA256 of <paramref name="body"/> under <paramref name="secret"/> (either hex case).</summary>
    /// <param name="secret">The shared secret.</param>
    /// <param name="body">The exact body bytes.</param>
    /// <param name="hexSignature">64 hex digits, no prefix.</param>
    /// <returns>True when the signature matches.</returns>
    public static bool VerifyHexHmacSha256(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> body, string? hexSignature)
    {
        if (secret.IsEmpty || !TryDecode(hexSignature, out var expected))
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[MacLength];
        HMACSHA256.HashData(secret, body, actual);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>
    /// A custom source's signature: the HMAC-SHA256 of the body under any of <paramref name="secrets"/>, written after
    /// <paramref name="prefix"/> in hex (either case) or base64.
    /// </summary>
    /// <param name="secrets">The shared secrets, several during a rotation.</param>
    /// <param name="body">The exact body bytes.</param>
    /// <param name="header">The signature header's value.</param>
    /// <param name="prefix">What the sender writes before the signature, e.g. <c>sha256=</c>; empty for none.</param>
    /// <param name="base64">True for base64, false for hex.</param>
    /// <returns>True when one secret's signature matches.</returns>
    public static bool VerifyCustom(IReadOnlyList<string> secrets, ReadOnlySpan<byte> body, string? header, string prefix, bool base64)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(prefix);
        if (header is null || !header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var given = header[prefix.Length..].Trim();
        byte[] expected;
        if (base64)
        {
            expected = new byte[MacLength];
            if (!Convert.TryFromBase64String(given, expected, out var written) || written != MacLength)
            {
                return false;
            }
        }
        else if (!TryDecode(given, out expected))
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[MacLength];
        var matched = false;
        foreach (var secret in secrets)
        {
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, actual);
            matched |= CryptographicOperations.FixedTimeEquals(actual, expected);
        }

        return matched;
    }

    /// <summary>
    /// Grafana Alerting's <c>X-Grafana-Alerting-Signature</c>: lowercase hex HMAC-SHA256 of the body, or of <c>"&lt;timestamp&gt;:" + body</c>
    /// when a timestamp header is configured. With a <paramref name="tolerance"/> the timestamp is required (otherwise a captured request
    /// replays for ever) and must be Unix seconds within the tolerance of <paramref name="now"/>.
    /// </summary>
    /// <param name="secret">The contact point's HMAC secret.</param>
    /// <param name="body">The exact body bytes.</param>
    /// <param name="signature">The signature header's value.</param>
    /// <param name="timestamp">The timestamp header's value (e.g. <c>X-Grafana-Alerting-Timestamp</c>), when Grafana sends one.</param>
    /// <param name="now">The current time.</param>
    /// <param name="tolerance">How far the timestamp may be from <paramref name="now"/>, either way; null to skip the check.</param>
    /// <returns>True when the signature matches and the timestamp, if checked, is fresh.</returns>
    public static bool VerifyGrafana(string secret, ReadOnlySpan<byte> body, string? signature, string? timestamp, DateTimeOffset now, TimeSpan? tolerance)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var key = Encoding.UTF8.GetBytes(secret);
        if (string.IsNullOrEmpty(timestamp))
        {
            return tolerance is null && VerifyHexHmacSha256(key, body, signature);
        }

        if (tolerance is { } window)
        {
            if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
                || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > window)
            {
                return false;
            }
        }

        // The MAC covers the timestamp as sent, so a replay with a fresh timestamp header fails.
        var prefix = Encoding.UTF8.GetBytes(timestamp + ":");
        var signed = ArrayPool<byte>.Shared.Rent(prefix.Length + body.Length);
        try
        {
            prefix.CopyTo(signed, 0);
            body.CopyTo(signed.AsSpan(prefix.Length));
            return VerifyHexHmacSha256(key, signed.AsSpan(0, prefix.Length + body.Length), signature);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(signed);
        }
    }

    /// <summary>
    /// PagerDuty V3's <c>X-PagerDuty-Signature</c>: comma-separated <c>v1=&lt;hex&gt;</c> values, several while a secret is being rotated.
    /// True when any <c>v1</c> value matches any secret; other versions are ignored, as PagerDuty asks.
    /// </summary>
    /// <param name="secrets">The subscription's secrets (old and new during a rotation); empty ones are skipped.</param>
    /// <param name="body">The exact body bytes.</param>
    /// <param name="header">The header's value.</param>
    /// <returns>True when some signature matches some secret.</returns>
    public static bool VerifyPagerDuty(IReadOnlyList<string> secrets, ReadOnlySpan<byte> body, string? header)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (string.IsNullOrEmpty(header))
        {
            return false;
        }

        var signatures = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("v1=", StringComparison.Ordinal) && TryDecode(part[3..], out var signature))
            {
                signatures.Add(signature);
            }
        }

        // Every pair is compared, without stopping at the first match, so the time taken does not say which secret or value matched.
        var matched = false;
        Span<byte> actual = stackalloc byte[MacLength];
        foreach (var secret in secrets)
        {
            if (string.IsNullOrEmpty(secret))
            {
                continue;
            }

            HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, actual);
            foreach (var signature in signatures)
            {
                matched |= CryptographicOperations.FixedTimeEquals(actual, signature);
            }
        }

        return matched;
    }

    private static bool TryDecode(string? hex, out byte[] bytes)
    {
        bytes = [];
        if (hex is null)
        {
            return false;
        }

        var text = hex.AsSpan().Trim();
        if (text.Length != MacLength * 2)
        {
            return false;
        }

        var decoded = new byte[MacLength];
        if (Convert.FromHexString(text, decoded, out _, out var written) != OperationStatus.Done || written != MacLength)
        {
            return false;
        }

        bytes = decoded;
        return true;
    }
}
