using System.Net.Sockets;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// Tells a configuration mistake that stopped a service at start apart from a fault, and turns it into one line
/// per problem, each naming its setting: what an operator needs, without the host's stack trace.
/// </summary>
public static partial class StartupFailure
{
    /// <summary>The lines to print when <paramref name="exception"/> is a configuration mistake; null when it is not.</summary>
    public static IReadOnlyList<string>? Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        switch (exception)
        {
            case TargetInvocationException { InnerException: { } inner }:
                return Describe(inner);
            case AggregateException aggregate:
                var lines = aggregate.InnerExceptions.Select(Describe).ToList();
                return lines.All(l => l is not null) ? lines.SelectMany(l => l!).Distinct().ToList() : null;
            case InvalidSettingException:
                return [exception.Message];
            case OptionsValidationException validation:
                return validation.Failures.Select(f => Rewrite(validation.OptionsType, f)).ToList();
            case InvalidOperationException when exception.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                // The binder's own message names the setting: "Failed to convert configuration value at 'A:B' to type ...".
                return [exception.Message];
            case IOException { InnerException: SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } }:
                // Kestrel: "Failed to bind to address http://127.0.0.1:8080: address already in use."
                return [$"Urls: {exception.Message} Choose another address (ASPNETCORE_URLS, --urls or ASPNETCORE_HTTP_PORTS)."];
            default:
                return null;
        }
    }

    /// <summary>
    /// A data-annotations failure names the member only ("DataAnnotation validation failed for 'SignApiOptions'
    /// members: 'SyncTimeoutMs' with the error: '...'"); this puts the setting's full path in front of it, from
    /// the options type's <c>SectionName</c>.
    /// </summary>
    private static string Rewrite(Type optionsType, string failure)
    {
        var match = DataAnnotationFailure().Match(failure);
        var section = optionsType.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as string;
        if (!match.Success || section is null)
        {
            return failure;
        }

        return $"{section}:{match.Groups["member"].Value}: {match.Groups["error"].Value}";
    }

    [GeneratedRegex(@"^DataAnnotation validation failed for '[^']*' members: '(?<member>[^']*)' with the error: '(?<error>.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationFailure();
}
