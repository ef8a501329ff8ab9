using System.Text.Json;

namespace AiGateway.Tokens;

/// <summary>
/// Renders function definitions the way OpenAI is understood to place them in the prompt: as a TypeScript
/// <c>namespace functions</c> of type declarations, not as JSON schema.
/// </summary>
/// <remarks>
/// This is the widely used reverse-engineered format (hmarr/openai-chat-tokens, validated against the API's
/// <c>prompt_tokens</c>):
/// <code>
/// namespace functions {
///
/// // Get the current weather
/// type get_current_weather = (_: {
/// // The city and state, e.g. San Francisco, CA
/// location: string,
/// unit?: "celsius" | "fahrenheit",
/// }) => any;
///
/// } // namespace functions
/// </code>
/// Supported schema: string, number, integer, boolean, null, object (nested, indented by two), array (<c>T[]</c>),
/// and enums. Anything else (<c>anyOf</c>, type lists, <c>$ref</c>) renders as <c>any</c>, so its tokens are
/// under-counted. Keywords the format drops (<c>minimum</c>, <c>format</c>, …) cost nothing here either.
/// </remarks>
internal static class ToolDefinitionFormatter
{
    /// <summary>
    /// Appends the namespace for the functions in <paramref name="definitions"/>: either a Chat Completions
    /// <c>tools</c> array (<c>{"type":"function","function":{…}}</c>; other tool types are skipped) or a legacy
    /// <c>functions</c> array.
    /// </summary>
    /// <returns>How many functions were rendered; when 0 nothing was appended.</returns>
    public static int Format(JsonElement definitions, bool isToolsArray, PooledCharBuffer output)
    {
        if (definitions.ValueKind != JsonValueKind.Array)
        {
            return 0;
        }

        int count = 0;
        foreach (var item in definitions.EnumerateArray())
        {
            var function = item;
            if (isToolsArray
                && (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("function", out function)))
            {
                continue;
            }

            if (function.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            AppendFunction(function, "parameters", ref count, output);
        }

        return CloseNamespace(count, output);
    }

    /// <summary>
    /// Appends the namespace for the client tools of an Anthropic Messages <c>tools</c> array
    /// (<c>{"name","description","input_schema"}</c>), rendered exactly as the function tools they translate to for an
    /// OpenAI-compatible deployment. Server tools (a <c>type</c> other than <c>custom</c>) have no such form and are skipped.
    /// </summary>
    /// <returns>How many tools were rendered; when 0 nothing was appended.</returns>
    public static int FormatAnthropic(JsonElement tools, PooledCharBuffer output)
    {
        if (tools.ValueKind != JsonValueKind.Array)
        {
            return 0;
        }

        int count = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object
                || (tool.TryGetProperty("type", out var type)
                    && type.ValueKind != JsonValueKind.Null
                    && !(type.ValueKind == JsonValueKind.String && type.ValueEquals("custom"))))
            {
                continue;
            }

            AppendFunction(tool, "input_schema", ref count, output);
        }

        return CloseNamespace(count, output);
    }

    /// <summary>Renders one function, opening the namespace before the first.</summary>
    private static void AppendFunction(JsonElement function, string parametersProperty, ref int count, PooledCharBuffer output)
    {
        if (count++ == 0)
        {
            output.Append("namespace functions {\n\n");
        }

        FormatFunction(function, parametersProperty, output);
    }

    /// <summary>Closes the namespace when anything was rendered; returns how many functions were.</summary>
    private static int CloseNamespace(int count, PooledCharBuffer output)
    {
        if (count > 0)
        {
            output.Append("} // namespace functions");
        }

        return count;
    }

    private static void FormatFunction(JsonElement function, string parametersProperty, PooledCharBuffer output)
    {
        if (function.TryGetProperty("description", out var description)
            && description.ValueKind == JsonValueKind.String
            && !description.ValueEquals(string.Empty))
        {
            output.Append("// ");
            output.AppendJsonString(description);
            output.Append('\n');
        }

        output.Append("type ");
        if (function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            output.AppendJsonString(name);
        }

        if (function.TryGetProperty(parametersProperty, out var parameters) && HasProperties(parameters))
        {
            output.Append(" = (_: {\n");
            FormatProperties(parameters, 0, output);
            output.Append("\n}) => any;\n\n");
        }
        else
        {
            output.Append(" = () => any;\n\n");
        }
    }

    private static bool HasProperties(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object
        && schema.TryGetProperty("properties", out var properties)
        && properties.ValueKind == JsonValueKind.Object
        && properties.EnumerateObject().Any();

    // One line per property (plus its description comment), joined by '\n'; only each line's start is indented,
    // as in the reference format, so a nested object's closing brace is not.
    private static void FormatProperties(JsonElement schema, int indent, PooledCharBuffer output)
    {
        if (schema.ValueKind != JsonValueKind.Object
            || !schema.TryGetProperty("properties", out var properties)
            || properties.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        schema.TryGetProperty("required", out var required);
        bool first = true;
        foreach (var property in properties.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Object
                && property.Value.TryGetProperty("description", out var description)
                && description.ValueKind == JsonValueKind.String
                && !description.ValueEquals(string.Empty))
            {
                NewLine(ref first, indent, output);
                output.Append("// ");
                output.AppendJsonString(description);
            }

            NewLine(ref first, indent, output);
            output.Append(property.Name);
            output.Append(IsRequired(required, property.Name) ? ": " : "?: ");
            FormatType(property.Value, indent, output);
            output.Append(',');
        }
    }

    private static void NewLine(ref bool first, int indent, PooledCharBuffer output)
    {
        if (!first)
        {
            output.Append('\n');
        }

        first = false;
        if (indent > 0)
        {
            output.Append(' ', indent);
        }
    }

    private static bool IsRequired(JsonElement required, string name)
    {
        if (required.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var item in required.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String && item.ValueEquals(name))
            {
                return true;
            }
        }

        return false;
    }

    private static void FormatType(JsonElement schema, int indent, PooledCharBuffer output)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            output.Append("any");
            return;
        }

        bool hasEnum = schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array;
        string? type = schema.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String
            ? typeElement.GetString()
            : null;
        switch (type)
        {
            case "string" or "number" or "integer" when hasEnum:
                FormatEnum(values, output);
                break;
            case "string":
                output.Append("string");
                break;
            case "number" or "integer":
                output.Append("number");
                break;
            case "boolean" or "null":
                output.Append(type);
                break;
            case "object":
                output.Append("{\n");
                FormatProperties(schema, indent + 2, output);
                output.Append("\n}");
                break;
            case "array":
                if (schema.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Object)
                {
                    FormatType(items, indent, output);
                    output.Append("[]");
                }
                else
                {
                    output.Append("any[]");
                }

                break;
            case null when hasEnum:
                FormatEnum(values, output);
                break;
            default:
                output.Append("any");
                break;
        }
    }

    private static void FormatEnum(JsonElement values, PooledCharBuffer output)
    {
        bool first = true;
        foreach (var value in values.EnumerateArray())
        {
            if (!first)
            {
                output.Append(" | ");
            }

            first = false;
            if (value.ValueKind == JsonValueKind.String)
            {
                output.Append('"');
                output.AppendJsonString(value);
                output.Append('"');
            }
            else
            {
                output.AppendRawJson(value);
            }
        }
    }
}
