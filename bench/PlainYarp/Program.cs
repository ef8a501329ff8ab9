using Yarp.ReverseProxy.Configuration;

// The ceiling for a YARP-based gateway: one catch-all route, one destination, no transforms beyond
// YARP's defaults. Upstream address from --Upstream=http://127.0.0.1:PORT/ (or PLAINYARP_Upstream).
var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddEnvironmentVariables("PLAINYARP_");
var upstream = builder.Configuration["Upstream"]
    ?? throw new InvalidOperationException("Set --Upstream=http://127.0.0.1:PORT/");

builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**catch-all}" } }],
    [new ClusterConfig
    {
        ClusterId = "upstream",
        Destinations = new Dictionary<string, DestinationConfig> { ["d1"] = new() { Address = upstream } },
    }]);

var app = builder.Build();
app.MapReverseProxy();
app.Run();
