using AiGateway.Configuration;
using AiGateway.Hosting;

WebApplication app;
try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddAiGateway();
    app = builder.Build();
    app.UseAiGateway();
}
catch (GatewayConfigException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

await app.RunAsync();
return 0;

/// <summary>Entry point; public so functional tests can start the real host.</summary>
public partial class Program;
