using System.Text.Json.Serialization;

namespace AiGateway.Hosting;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ReadyStatus))]
[JsonSerializable(typeof(ConfigStatus))]
internal sealed partial class HostingJsonContext : JsonSerializerContext;
