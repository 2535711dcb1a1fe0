using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RunbookEngine.Storage;

namespace RunbookEngine.Notifications;

/// <summary>Registers the outbox's delivery and its channels.</summary>
internal static class NotificationServiceCollectionExtensions
{
    public static IServiceCollection AddRunbookNotifications(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<RunbookEngineOptions>, NotificationValidation>();
        services.AddSingleton<INotificationStore>(provider => (INotificationStore)provider.GetRequiredService<IRunStore>());
        services.AddHttpClient(WebhookChannel.HttpClientName);
        services.AddSingleton<INotificationChannel, WebhookChannel>();
        services.AddSingleton<INotificationChannel, TeamsChannel>();
        services.AddSingleton<INotificationChannel, EmailChannel>();
        services.AddSingleton<SlackChannel>();
        services.AddSingleton<INotificationChannel>(provider => provider.GetRequiredService<SlackChannel>());
        services.AddSingleton<SlackInteractions>();
        services.AddSingleton<NotificationRoutes>();
        services.AddSingleton<NotificationDelivery>();
        services.AddHostedService(provider => provider.GetRequiredService<NotificationDelivery>());
        return services;
    }
}
