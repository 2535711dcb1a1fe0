using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using RunbookEngine.Storage;

namespace RunbookEngine.Access;

/// <summary>The Data Protection key ring in the store: every node, and every run's own process, reads the same keys.</summary>
/// <remarks>
/// Data Protection asks for keys synchronously, and rarely (at first use, then about once a day or when a key is
/// missing), so blocking on the store here costs a request a few milliseconds at most once a day.
/// </remarks>
internal sealed class StoreKeyRing(IKeyRingStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() =>
        [.. store.ReadProtectionKeysAsync(CancellationToken.None).GetAwaiter().GetResult().Select(XElement.Parse)];

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        store.SaveProtectionKeyAsync(friendlyName, element.ToString(SaveOptions.DisableFormatting), CancellationToken.None).GetAwaiter().GetResult();
    }
}
