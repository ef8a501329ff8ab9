namespace AiGateway.Observability;

/// <summary>
/// Attribute names of the OpenTelemetry GenAI semantic conventions and the gateway's own attributes,
/// shared by metrics, spans and the dashboards in <c>deploy/observability/</c>.
/// </summary>
internal static class GenAiAttributes
{
    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string TokenType = "gen_ai.token.type";
    public const string RequestMaxTokens = "gen_ai.request.max_tokens";
    public const string UsageInputTokens = "gen_ai.usage.input_tokens";
    public const string UsageOutputTokens = "gen_ai.usage.output_tokens";
    public const string ErrorType = "error.type";

    public const string HttpRoute = "http.route";
    public const string HttpStatusCode = "http.response.status_code";

    public const string Deployment = "aigateway.deployment";
    public const string CacheResult = "aigateway.cache.result";
    public const string AttemptKind = "aigateway.attempt.kind";
    public const string AttemptNumber = "aigateway.attempt.number";
    public const string RequestId = "aigateway.request_id";
    public const string KeyName = "aigateway.key.name";
    public const string Team = "aigateway.team";
    public const string Stream = "aigateway.stream";

    public const string TokenTypeInput = "input";
    public const string TokenTypeOutput = "output";

    /// <summary>
    /// <c>gen_ai.provider.name</c> for a configured provider: the well-known value of the conventions
    /// where one exists (<c>azure.ai.openai</c>), otherwise the provider's config name.
    /// </summary>
    public static string Provider(string configProvider) => configProvider switch
    {
        "azure" => "azure.ai.openai",
        _ => configProvider,
    };

    private static readonly string[] StatusCodes = CreateStatusCodes();

    /// <summary>The status code as a string, without allocating for the usual range.</summary>
    public static string Status(int status) => (uint)(status - 100) < 500 ? StatusCodes[status - 100] : status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string[] CreateStatusCodes()
    {
        var codes = new string[500];
        for (var i = 0; i < codes.Length; i++) codes[i] = (i + 100).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return codes;
    }
}
