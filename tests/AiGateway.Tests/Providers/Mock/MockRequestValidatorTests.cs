using System.Text.Json;
using AiGateway.Protocol;
using AiGateway.Providers.Mock;

namespace AiGateway.Tests.Providers.Mock;

public sealed class MockRequestValidatorTests
{
    private const string User = """[{"role":"user","content":"hi"}]""";
    private const string Tool = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]""";

    private static string Chat(string fields) => $$"""{"model":"m","messages":{{User}},{{fields}}}""";

    private static string Completion(string fields) => $$"""{"model":"m","prompt":"hi",{{fields}}}""";

    private static string Embedding(string fields) => $$"""{"model":"m",{{fields}}}""";

    private static AiOperation Operation(string endpoint) => endpoint switch
    {
        "chat" => AiOperation.ChatCompletions,
        "completions" => AiOperation.Completions,
        _ => AiOperation.Embeddings,
    };

    public static TheoryData<string, string, string, string> Invalid => new()
    {
        // sampling
        { "chat", Chat("\"temperature\":2.5"), "temperature", "decimal_above_max_value" },
        { "chat", Chat("\"temperature\":-0.1"), "temperature", "decimal_below_min_value" },
        { "chat", Chat("\"temperature\":\"hot\""), "temperature", "invalid_type" },
        { "chat", Chat("\"temperature\":1e400"), "temperature", "decimal_above_max_value" },
        { "chat", Chat("\"top_p\":1.01"), "top_p", "decimal_above_max_value" },
        { "chat", Chat("\"presence_penalty\":-2.5"), "presence_penalty", "decimal_below_min_value" },
        { "chat", Chat("\"frequency_penalty\":3"), "frequency_penalty", "decimal_above_max_value" },
        { "chat", Chat("\"n\":0"), "n", "integer_below_min_value" },
        { "chat", Chat("\"n\":129"), "n", "integer_above_max_value" },
        { "chat", Chat("\"n\":1.5"), "n", "invalid_type" },
        { "chat", Chat("\"n\":\"2\""), "n", "invalid_type" },
        { "chat", Chat("\"n\":1e30"), "n", "integer_above_max_value" },
        { "chat", Chat("\"seed\":1.5"), "seed", "invalid_type" },
        { "chat", Chat("\"seed\":1e30"), "seed", "integer_above_max_value" },
        { "chat", Chat("\"user\":42"), "user", "invalid_type" },
        { "chat", Chat("\"logprobs\":1"), "logprobs", "invalid_type" },
        { "chat", Chat("\"logprobs\":true,\"top_logprobs\":21"), "top_logprobs", "integer_above_max_value" },
        { "chat", Chat("\"logprobs\":true,\"top_logprobs\":-1"), "top_logprobs", "integer_below_min_value" },
        { "chat", Chat("\"top_logprobs\":3"), "top_logprobs", "invalid_value" },
        { "chat", Chat("\"logprobs\":false,\"top_logprobs\":3"), "top_logprobs", "invalid_value" },
        { "chat", Chat("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), "stop", "array_above_max_length" },
        { "chat", Chat("\"stop\":[\"a\",1]"), "stop[1]", "invalid_type" },
        { "chat", Chat("\"stop\":5"), "stop", "invalid_type" },
        { "chat", Chat("\"stream_options\":{\"include_usage\":true}"), "stream_options", "invalid_value" },
        { "chat", Chat("\"stream\":false,\"stream_options\":{}"), "stream_options", "invalid_value" },
        { "chat", Chat("\"logit_bias\":{\"50256\":101}"), "logit_bias", "invalid_value" },
        { "chat", Chat("\"logit_bias\":{\"abc\":1}"), "logit_bias", "invalid_value" },
        { "chat", Chat("\"logit_bias\":{\"-1\":1}"), "logit_bias", "invalid_value" },
        { "chat", Chat("\"logit_bias\":{\"1\":\"x\"}"), "logit_bias.1", "invalid_type" },
        { "chat", Chat("\"logit_bias\":[1]"), "logit_bias", "invalid_type" },
        { "chat", Chat("\"parallel_tool_calls\":\"yes\""), "parallel_tool_calls", "invalid_type" },

        // response_format
        { "chat", Chat("\"response_format\":\"json\""), "response_format", "invalid_type" },
        { "chat", Chat("\"response_format\":{}"), "response_format.type", "missing_required_parameter" },
        { "chat", Chat("\"response_format\":{\"type\":\"xml\"}"), "response_format.type", "invalid_value" },
        { "chat", Chat("\"response_format\":{\"type\":\"json_schema\"}"), "response_format.json_schema", "missing_required_parameter" },
        { "chat", Chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}"), "response_format.json_schema.name", "missing_required_parameter" },
        { "chat", Chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a b\"}}"), "response_format.json_schema.name", "invalid_value" },
        { "chat", Chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":\"{}\"}}"), "response_format.json_schema.schema", "invalid_type" },

        // tools and tool_choice
        { "chat", Chat("\"tools\":{}"), "tools", "invalid_type" },
        { "chat", Chat("\"tools\":[]"), "tools", "empty_array" },
        { "chat", Chat("\"tools\":[{\"type\":\"retrieval\"}]"), "tools[0].type", "invalid_value" },
        { "chat", Chat("\"tools\":[{\"function\":{\"name\":\"f\"}}]"), "tools[0].type", "missing_required_parameter" },
        { "chat", Chat("\"tools\":[{\"type\":\"function\"}]"), "tools[0].function", "missing_required_parameter" },
        { "chat", Chat("\"tools\":[{\"type\":\"function\",\"function\":{}}]"), "tools[0].function.name", "missing_required_parameter" },
        { "chat", Chat("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get weather\"}}]"), "tools[0].function.name", "invalid_value" },
        { "chat", Chat("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"\"}}]"), "tools[0].function.name", "empty_string" },
        { "chat", Chat($"\"tools\":[{{\"type\":\"function\",\"function\":{{\"name\":\"{new string('a', 65)}\"}}}}]"), "tools[0].function.name", "string_above_max_length" },
        { "chat", Chat("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":[]}}]"), "tools[0].function.parameters", "invalid_type" },
        { "chat", Chat("\"tool_choice\":\"auto\""), "tool_choice", "invalid_value" },
        { "chat", Chat($"\"tools\":{Tool},\"tool_choice\":\"always\""), "tool_choice", "invalid_value" },
        { "chat", Chat($"\"tools\":{Tool},\"tool_choice\":7"), "tool_choice", "invalid_type" },
        { "chat", Chat($"\"tools\":{Tool},\"tool_choice\":{{\"type\":\"function\"}}"), "tool_choice.function", "missing_required_parameter" },
        { "chat", Chat($"\"tools\":{Tool},\"tool_choice\":{{\"type\":\"function\",\"function\":{{\"name\":\"other\"}}}}"), "tool_choice.function.name", "invalid_value" },

        // messages
        { "chat", """{"model":"m"}""", "messages", "missing_required_parameter" },
        { "chat", """{"model":"m","messages":"hi"}""", "messages", "invalid_type" },
        { "chat", """{"model":"m","messages":[]}""", "messages", "empty_array" },
        { "chat", """{"model":"m","messages":["hi"]}""", "messages[0]", "invalid_type" },
        { "chat", """{"model":"m","messages":[{"content":"hi"}]}""", "messages[0].role", "missing_required_parameter" },
        { "chat", """{"model":"m","messages":[{"role":"bot","content":"hi"}]}""", "messages[0].role", "invalid_value" },
        { "chat", """{"model":"m","messages":[{"role":1,"content":"hi"}]}""", "messages[0].role", "invalid_type" },
        { "chat", """{"model":"m","messages":[{"role":"user"}]}""", "messages[0].content", "missing_required_parameter" },
        { "chat", """{"model":"m","messages":[{"role":"user","content":42}]}""", "messages[0].content", "invalid_type" },
        { "chat", """{"model":"m","messages":[{"role":"user","content":[]}]}""", "messages[0].content", "empty_array" },
        { "chat", """{"model":"m","messages":[{"role":"user","content":[{"text":"hi"}]}]}""", "messages[0].content[0].type", "missing_required_parameter" },
        { "chat", """{"model":"m","messages":[{"role":"user","content":[{"type":"video"}]}]}""", "messages[0].content[0].type", "invalid_value" },
        { "chat", """{"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]}""", "messages[0].content[0].text", "missing_required_parameter" },
        { "chat", """{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"http://x"}]}]}""", "messages[0].content[0].image_url", "invalid_type" },
        { "chat", """{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"http://x"}}]}]}""", "messages[0].content[0].type", "invalid_value" },
        { "chat", """{"model":"m","messages":[{"role":"user","content":"hi","name":5}]}""", "messages[0].name", "invalid_type" },
        { "chat", """{"model":"m","messages":[{"role":"assistant"}]}""", "messages[0].content", "missing_required_parameter" },
        { "chat", """{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[]}]}""", "messages[0].tool_calls", "empty_array" },
        { "chat", """{"model":"m","messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}""", "messages[0].tool_calls[0].id", "missing_required_parameter" },
        { "chat", """{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{}}}]}]}""", "messages[0].tool_calls[0].function.arguments", "invalid_type" },
        { "chat", """{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}""", "messages[0].role", "invalid_value" },
        { "chat", """{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"user","content":"hi"}]}""", "messages[0].role", "invalid_value" },
        { "chat", """{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","content":"r","tool_call_id":"c"}]}""", "messages[1].role", "invalid_value" },
        { "chat", """{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"r","tool_call_id":"d"}]}""", "messages[1].tool_call_id", "invalid_value" },
        { "chat", """{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"r"}]}""", "messages[1].tool_call_id", "missing_required_parameter" },
        { "chat", """{"model":"m","messages":[{"role":"function","content":"r"}]}""", "messages[0].name", "missing_required_parameter" },

        // completions
        { "completions", """{"model":"m"}""", "prompt", "missing_required_parameter" },
        { "completions", """{"model":"m","prompt":[]}""", "prompt", "empty_array" },
        { "completions", """{"model":"m","prompt":{"text":"hi"}}""", "prompt", "invalid_type" },
        { "completions", """{"model":"m","prompt":["a",1]}""", "prompt[1]", "invalid_type" },
        { "completions", """{"model":"m","prompt":[1,-2]}""", "prompt[1]", "integer_below_min_value" },
        { "completions", """{"model":"m","prompt":[[1],[]]}""", "prompt[1]", "empty_array" },
        { "completions", """{"model":"m","prompt":[null]}""", "prompt[0]", "invalid_type" },
        { "completions", Completion("\"n\":0"), "n", "integer_below_min_value" },
        { "completions", Completion("\"best_of\":21"), "best_of", "integer_above_max_value" },
        { "completions", Completion("\"n\":3,\"best_of\":2"), "best_of", "invalid_value" },
        { "completions", Completion("\"best_of\":2,\"stream\":true"), "best_of", "invalid_value" },
        { "completions", Completion("\"echo\":\"yes\""), "echo", "invalid_type" },
        { "completions", Completion("\"suffix\":1"), "suffix", "invalid_type" },
        { "completions", Completion("\"logprobs\":6"), "logprobs", "integer_above_max_value" },
        { "completions", Completion("\"temperature\":3"), "temperature", "decimal_above_max_value" },
        { "completions", Completion("\"stop\":[\"1\",\"2\",\"3\",\"4\",\"5\"]"), "stop", "array_above_max_length" },
        { "completions", Completion("\"stream_options\":{\"include_usage\":true}"), "stream_options", "invalid_value" },

        // embeddings
        { "embeddings", """{"model":"m"}""", "input", "missing_required_parameter" },
        { "embeddings", Embedding("\"input\":\"\""), "input", "empty_string" },
        { "embeddings", Embedding("\"input\":[]"), "input", "empty_array" },
        { "embeddings", Embedding("\"input\":[\"a\",\"\"]"), "input[1]", "empty_string" },
        { "embeddings", Embedding("\"input\":[\"a\",null]"), "input[1]", "invalid_type" },
        { "embeddings", Embedding("\"input\":[\"a\",{}]"), "input[1]", "invalid_type" },
        { "embeddings", Embedding("\"input\":[{}]"), "input[0]", "invalid_type" },
        { "embeddings", Embedding("\"input\":[null]"), "input[0]", "invalid_type" },
        { "embeddings", Embedding("\"input\":[[]]"), "input[0]", "empty_array" },
        { "embeddings", Embedding("\"input\":[[1,\"a\"]]"), "input[0][1]", "invalid_type" },
        { "embeddings", Embedding("\"input\":[1,2.5]"), "input[1]", "invalid_type" },
        { "embeddings", Embedding("\"input\":42"), "input", "invalid_type" },
        { "embeddings", Embedding("\"input\":{\"text\":\"a\"}"), "input", "invalid_type" },
        { "embeddings", Embedding($"\"input\":[{string.Join(',', Enumerable.Repeat("\"a\"", 2049))}]"), "input", "array_above_max_length" },
        { "embeddings", Embedding("\"input\":\"a\",\"encoding_format\":\"hex\""), "encoding_format", "invalid_value" },
        { "embeddings", Embedding("\"input\":\"a\",\"dimensions\":0"), "dimensions", "integer_below_min_value" },
        { "embeddings", Embedding("\"input\":\"a\",\"dimensions\":\"8\""), "dimensions", "invalid_type" },
        { "embeddings", Embedding("\"input\":\"a\",\"user\":[]"), "user", "invalid_type" },
    };

    public static TheoryData<string, string> Valid => new()
    {
        { "chat", Chat("\"temperature\":0,\"top_p\":1,\"presence_penalty\":-2,\"frequency_penalty\":2") },
        { "chat", Chat("\"temperature\":2,\"top_p\":0") },
        { "chat", Chat("\"n\":1") },
        { "chat", Chat("\"n\":128,\"seed\":-9223372036854775808") },
        { "chat", Chat("\"n\":2.0") },
        { "chat", Chat("\"temperature\":null,\"n\":null,\"stop\":null,\"tools\":null,\"tool_choice\":null,\"response_format\":null,\"stream_options\":null,\"user\":null") },
        { "chat", Chat("\"logprobs\":true,\"top_logprobs\":0") },
        { "chat", Chat("\"logprobs\":true,\"top_logprobs\":20") },
        { "chat", Chat("\"stop\":\"END\"") },
        { "chat", Chat("\"stop\":[\"a\",\"b\",\"c\",\"d\"]") },
        { "chat", Chat("\"stop\":[]") },
        { "chat", Chat("\"stream\":true,\"stream_options\":{\"include_usage\":true}") },
        { "chat", Chat("\"logit_bias\":{\"50256\":-100,\"1\":100,\"2\":0.5}") },
        { "chat", Chat("\"user\":\"u-1\",\"parallel_tool_calls\":false") },
        { "chat", Chat("\"response_format\":{\"type\":\"text\"}") },
        { "chat", Chat("\"response_format\":{\"type\":\"json_object\"}") },
        { "chat", Chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"answer_1\",\"schema\":{\"type\":\"object\"},\"strict\":true}}") },
        { "chat", Chat($"\"tools\":{Tool}") },
        { "chat", Chat($"\"tools\":{Tool},\"tool_choice\":\"required\"") },
        { "chat", Chat($"\"tools\":{Tool},\"tool_choice\":{{\"type\":\"function\",\"function\":{{\"name\":\"get_weather\"}}}}") },
        { "chat", Chat("\"tool_choice\":\"none\"") },
        { "chat", Chat($"\"tools\":[{{\"type\":\"function\",\"function\":{{\"name\":\"{new string('a', 64)}\"}}}}]") },
        { "chat", Chat("\"future_parameter\":{\"anything\":[1,2]},\"metadata\":{\"k\":\"v\"},\"store\":false") },
        { "chat", """{"model":"m","messages":[{"role":"developer","content":"be brief"},{"role":"system","content":[{"type":"text","text":"x"}]},{"role":"user","name":"ann","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}}]}]}""" },
        { "chat", """{"model":"m","messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"c2","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c2","content":"sunny"},{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"rain"}]},{"role":"assistant","content":"Mixed."},{"role":"user","content":""}]}""" },
        { "chat", """{"model":"m","messages":[{"role":"assistant","content":"", "refusal":null},{"role":"assistant","content":[{"type":"refusal","refusal":"no"}]},{"role":"assistant","function_call":{"name":"f","arguments":"{}"}},{"role":"function","name":"f","content":"r"}]}""" },
        { "completions", Completion("\"n\":2,\"best_of\":3,\"echo\":true,\"suffix\":\"!\",\"logprobs\":5") },
        { "completions", Completion("\"best_of\":1,\"stream\":true,\"stream_options\":{\"include_usage\":true}") },
        { "completions", """{"model":"m","prompt":""}""" },
        { "completions", """{"model":"m","prompt":["a",""]}""" },
        { "completions", """{"model":"m","prompt":[1,2,3]}""" },
        { "completions", """{"model":"m","prompt":[[1,2],[3]]}""" },
        { "embeddings", Embedding("\"input\":\"a\"") },
        { "embeddings", Embedding("\"input\":[\"a\",\"b\"],\"encoding_format\":\"base64\",\"dimensions\":1,\"user\":\"u\"") },
        { "embeddings", Embedding("\"input\":[0,100256],\"encoding_format\":\"float\"") },
        { "embeddings", Embedding("\"input\":[[1,2],[3]],\"encoding_format\":null,\"dimensions\":null") },
        { "embeddings", Embedding($"\"input\":[{string.Join(',', Enumerable.Repeat("\"a\"", 2048))}]") },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_InvalidParameter_Returns400NamingIt(string endpoint, string body, string param, string code)
    {
        using var document = JsonDocument.Parse(body);

        var error = MockRequestValidator.Validate(document.RootElement, Operation(endpoint));

        Assert.NotNull(error);
        Assert.Equal((400, param, code, "invalid_request_error"), (error.Status, error.Param, error.Code, error.Type));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void Validate_AcceptedRequest_ReturnsNull(string endpoint, string body)
    {
        using var document = JsonDocument.Parse(body);

        var error = MockRequestValidator.Validate(document.RootElement, Operation(endpoint));

        Assert.Null(error);
    }

    [Theory]
    [InlineData("\"temperature\":2.5", "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.")]
    [InlineData("\"n\":0", "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.")]
    [InlineData("\"n\":\"2\"", "Invalid type for 'n': expected an integer, but got a string instead.")]
    [InlineData("\"stream_options\":{}", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")]
    [InlineData("\"response_format\":{\"type\":\"xml\"}", "Invalid value: 'xml'. Supported values are: 'text', 'json_object', and 'json_schema'.")]
    [InlineData("\"stop\":[\"1\",\"2\",\"3\",\"4\",\"5\"]", "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.")]
    public void Validate_InvalidParameter_UsesOpenAiWording(string fields, string message)
    {
        using var document = JsonDocument.Parse(Chat(fields));

        var error = MockRequestValidator.Validate(document.RootElement, AiOperation.ChatCompletions);

        Assert.Equal(message, error?.Message);
    }

    [Fact]
    public void Validate_AnthropicSurface_IsNotChecked()
    {
        using var document = JsonDocument.Parse(Chat("\"stop\":[\"1\",\"2\",\"3\",\"4\",\"5\"]"));

        Assert.Null(MockRequestValidator.Validate(document.RootElement, AiOperation.Messages));
    }
}
