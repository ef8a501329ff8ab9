using FakeUpstream;

// A fast fake OpenAI-compatible upstream for the benchmark. See bench/README.md "Fake upstream".
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    // 5,000 slow streams must not be cut by Kestrel's response data-rate guard.
    k.Limits.MinResponseDataRate = null;
});

var defaults = ResponseShape.FromEnvironment();
var state = new UpstreamState(defaults, Environment.GetEnvironmentVariable("FAKE_UPSTREAM_KEY"));

var app = builder.Build();
app.MapPost("/v1/chat/completions", context => ChatEndpoint.HandleAsync(context, state));
app.MapPost("/v1/embeddings", context => EmbeddingsEndpoint.HandleAsync(context, state));
app.MapPost("/fake/config", context => AdminEndpoints.SetShapeAsync(context, state));
app.MapGet("/fake/stats", context => AdminEndpoints.StatsAsync(context, state));
app.MapGet("/healthz", context => context.Response.WriteAsync("ok"));
app.Run();
