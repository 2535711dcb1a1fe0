// ---
// description: Check that a TLS certificate file is not about to expire, every morning
// owner: sre
// tags: [tls, certificates]
// schedule: "0 8 * * *"
// parameters:
//   cert_path: { type: string, default: /etc/ssl/certs/ISRG_Root_X1.pem, description: a PEM or DER certificate file }
//   warn_days: { type: int, default: 30, description: fail when fewer days than this remain }
// manual_minutes: 5
// timeout: 1m
// ---
using System.Security.Cryptography.X509Certificates;

var path = Params.Get<string>("cert_path");
var warnDays = Params.Get<int>("warn_days");

var notAfter = await Step("read certificate", ct =>
{
    if (!File.Exists(path))
    {
        throw new RunbookFailedException($"no certificate at {path}");
    }

    var text = File.ReadAllText(path);
    using var certificate = text.Contains("-----BEGIN CERTIFICATE-----")
        ? X509Certificate2.CreateFromPem(text)
        : X509CertificateLoader.LoadCertificate(File.ReadAllBytes(path));
    Log.Info($"{certificate.Subject}, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC");
    return Task.FromResult(new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero));
});

await Step("check expiry", ct =>
{
    var left = notAfter - Now;
    if (left < TimeSpan.Zero)
    {
        throw new RunbookFailedException($"{path} expired {-left.TotalDays:0} days ago ({notAfter:yyyy-MM-dd}); renew it now");
    }

    if (left < TimeSpan.FromDays(warnDays))
    {
        throw new RunbookFailedException($"{path} expires in {left.TotalDays:0} days ({notAfter:yyyy-MM-dd}), within the {warnDays}-day warning; renew it");
    }

    Log.Info($"{left.TotalDays:0} days left");
    return Task.CompletedTask;
});
