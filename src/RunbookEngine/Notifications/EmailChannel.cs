using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace RunbookEngine.Notifications;

/// <summary>Sends the message as a plain-text e-mail through SMTP with MailKit, with the channel's TLS setting.</summary>
internal sealed class EmailChannel : INotificationChannel
{
    /// <inheritdoc />
    public string Kind => "email";

    /// <inheritdoc />
    public async Task DeliverAsync(NotificationMessage message, string channel, NotificationChannelOptions settings, CancellationToken cancellationToken)
    {
        using var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(settings.From!));
        foreach (var to in settings.To)
        {
            mail.To.Add(MailboxAddress.Parse(to));
        }

        mail.Subject = message.Title;

        // The delivery's id as the Message-Id: a mail server or reader that saw a second delivery can tell it is one.
        mail.MessageId = $"{message.Delivery.Id}@runbookengine";
        mail.Body = new TextPart("plain") { Text = message.Text };

        using var smtp = new SmtpClient();
        await smtp.ConnectAsync(settings.SmtpHost!, settings.SmtpPort, Security(settings.SmtpSecurity), cancellationToken);
        if (!string.IsNullOrEmpty(settings.SmtpUser))
        {
            await smtp.AuthenticateAsync(settings.SmtpUser, settings.SmtpPassword ?? "", cancellationToken);
        }

        await smtp.SendAsync(mail, cancellationToken);
        await smtp.DisconnectAsync(quit: true, cancellationToken);
    }

    private static SecureSocketOptions Security(string setting) => setting.ToLowerInvariant() switch
    {
        "tls" => SecureSocketOptions.SslOnConnect,
        "auto" => SecureSocketOptions.StartTlsWhenAvailable,
        "none" => SecureSocketOptions.None,
        _ => SecureSocketOptions.StartTls,
    };
}
