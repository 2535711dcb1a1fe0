using RunbookEngine.Host.Api;
using RunbookEngine.Hosting;
using Serilog;

// appsettings.json ships beside the binary; runbooks/ and data/ are resolved from the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddSerilog((services, logger) => logger.ReadFrom.Configuration(builder.Configuration).ReadFrom.Services(services));
builder.Services.AddRunbookEngine(builder.Configuration);
builder.Services.AddRunbookApi();

var app = builder.Build();
app.MapHealthEndpoints();
app.MapRunbookApi();
app.Run();

/// <summary>The host's entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
