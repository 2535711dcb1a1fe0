using System.Text.Json.Serialization;

namespace RunbookEngine.Host.Api;

/// <summary>JSON settings of the API: camelCase, enums as strings, nulls left out.</summary>
internal static class ApiServiceCollectionExtensions
{
    public static IServiceCollection AddRunbookApi(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
}
