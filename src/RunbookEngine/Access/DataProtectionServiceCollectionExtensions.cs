using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RunbookEngine.Storage;

namespace RunbookEngine.Access;

/// <summary>The key ring behind sign-in cookies, anti-forgery tokens and secret parameters at rest.</summary>
public static class DataProtectionServiceCollectionExtensions
{
    /// <summary>
    /// Data Protection with one key ring for the whole cluster: in the store, or in <c>RunbookEngine:Access:KeyRingPath</c>.
    /// Keys roll over every 90 days (Data Protection's default); old keys stay to read what they protected.
    /// </summary>
    /// <param name="services">The services; an <see cref="IKeyRingStore"/> must be registered unless a key ring folder is set.</param>
    /// <param name="options">The engine's settings.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRunbookDataProtection(this IServiceCollection services, RunbookEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // The application name, not the content root, isolates the keys' purposes, so every node and a run's own
        // process (started from another folder) read each other's cookies and sealed parameters.
        var builder = services.AddDataProtection().SetApplicationName("RunbookEngine");
        if (options.Access.KeyRingPath is { Length: > 0 } folder)
        {
            builder.PersistKeysToFileSystem(new DirectoryInfo(folder));
        }
        else
        {
            services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider =>
                new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new StoreKeyRing(provider.GetRequiredService<IKeyRingStore>())));
        }

        services.AddSingleton<Runs.SecretParameters>();
        return services;
    }
}
