using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AiGateway.Protocol;

/// <summary>Source-generated serialization for the few DOM edits the gateway makes.</summary>
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext;
