namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// A setting is missing or wrong. The message names the setting (as in configuration, <c>Section:Key</c>) and says
/// what is wrong with it; the service stops at start and prints that message alone (<see cref="StartupFailure"/>).
/// </summary>
public sealed class InvalidSettingException : Exception
{
    public InvalidSettingException(string message)
        : base(message)
    {
    }

    public InvalidSettingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public InvalidSettingException()
    {
    }
}
