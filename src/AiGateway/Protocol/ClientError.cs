namespace AiGateway.Protocol;

/// <summary>A request the gateway refuses, to be written with <see cref="OpenAiError"/> (or the surface's own error shape).</summary>
internal sealed record ClientError(int Status, string Message, string? Param = null, string? Code = null)
{
    public string Type => OpenAiError.TypeForStatus(Status);

    public Task WriteAsync(HttpContext context) => OpenAiError.WriteAsync(context, Status, Message, Type, Param, Code);
}
