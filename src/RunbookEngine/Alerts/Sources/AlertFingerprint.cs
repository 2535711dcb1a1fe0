using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RunbookEngine.Alerts.Sources;

/// <summary>Fingerprints for alerts whose sender gave none. Both order labels by their UTF-8 bytes, as Go sorts strings, so map order never matters.</summary>
internal static class AlertFingerprint
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    // 0xff never occurs in UTF-8, so it separates names and values unambiguously.
    private const byte Separator = 0xff;

    /// <summary>
    /// Alertmanager's own fingerprint (prometheus/common <c>LabelSet.Fingerprint</c>: FNV-1a 64 over each sorted name and value,
    /// each followed by 0xff), so an alert that lost its <c>fingerprint</c> field still gets the one Alertmanager would have sent.
    /// </summary>
    public static string OfLabels(IReadOnlyDictionary<string, string> labels)
    {
        var hash = FnvOffset;
        foreach (var (name, value) in Sorted(labels))
        {
            hash = Add(Add(hash, name), value);
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);

        static ulong Add(ulong hash, byte[] bytes)
        {
            foreach (var b in bytes)
            {
                hash = (hash ^ b) * FnvPrime;
            }

            return (hash ^ Separator) * FnvPrime;
        }
    }

    /// <summary>The generic source's default: the first 16 hex digits of SHA-256 over the name and the sorted labels.</summary>
    public static string OfNameAndLabels(string name, IReadOnlyDictionary<string, string> labels)
    {
        using var buffer = new MemoryStream();
        Write(buffer, Encoding.UTF8.GetBytes(name));
        foreach (var (key, value) in Sorted(labels))
        {
            Write(buffer, key);
            Write(buffer, value);
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))[..16];

        static void Write(MemoryStream buffer, byte[] bytes)
        {
            buffer.Write(bytes);
            buffer.WriteByte(Separator);
        }
    }

    private static List<(byte[] Name, byte[] Value)> Sorted(IReadOnlyDictionary<string, string> labels)
    {
        var pairs = labels.Select(label => (Encoding.UTF8.GetBytes(label.Key), Encoding.UTF8.GetBytes(label.Value))).ToList();
        pairs.Sort((a, b) => a.Item1.AsSpan().SequenceCompareTo(b.Item1));
        return pairs;
    }
}
