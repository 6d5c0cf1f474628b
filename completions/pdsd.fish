# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pdsd_global_optspecs
    string join \n dev c/config= data-dir= listen= plc-url= socket= plc-listen= hostname= h/help V/version
end

function __fish_pdsd_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pdsd_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pdsd_using_subcommand
    set -l cmd (__fish_pdsd_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pdsd -n "__fish_pdsd_needs_command" -s c -l config -d 'Configuration file (TOML); see examples/pdsd.toml for every option' -r -F
complete -c pdsd -n "__fish_pdsd_needs_command" -l data-dir -d 'Where data lives (database, blobs, secrets)' -r -F
complete -c pdsd -n "__fish_pdsd_needs_command" -l listen -d 'Address for the HTTP/XRPC server' -r
complete -c pdsd -n "__fish_pdsd_needs_command" -l plc-url -d 'External PLC directory URL (instead of the public one, or the built-in one in --dev)' -r
complete -c pdsd -n "__fish_pdsd_needs_command" -l socket -d 'Admin socket path (default: <data-dir>/pdsd.sock in --dev, /run/pdsd/admin.sock otherwise)' -r -F
complete -c pdsd -n "__fish_pdsd_needs_command" -l plc-listen -d 'Where the built-in PLC directory of --dev listens (default 127.0.0.1:2584)' -r
complete -c pdsd -n "__fish_pdsd_needs_command" -l hostname -d 'Public hostname (e.g. pds.example.com)' -r
complete -c pdsd -n "__fish_pdsd_needs_command" -l dev -d 'Development mode: loopback, handles under .test, no invites, a built-in PLC directory'
complete -c pdsd -n "__fish_pdsd_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsd -n "__fish_pdsd_needs_command" -s V -l version -d 'Print version'
complete -c pdsd -n "__fish_pdsd_needs_command" -f -a "config" -d 'Inspect the configuration'
complete -c pdsd -n "__fish_pdsd_needs_command" -f -a "generate" -d 'Write man pages or shell completions (used to keep man/ and completions/ current)'
complete -c pdsd -n "__fish_pdsd_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -s c -l config -d 'Configuration file (TOML); see examples/pdsd.toml for every option' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -l data-dir -d 'Where data lives (database, blobs, secrets)' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -l listen -d 'Address for the HTTP/XRPC server' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -l plc-url -d 'External PLC directory URL (instead of the public one, or the built-in one in --dev)' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -l socket -d 'Admin socket path (default: <data-dir>/pdsd.sock in --dev, /run/pdsd/admin.sock otherwise)' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -l plc-listen -d 'Where the built-in PLC directory of --dev listens (default 127.0.0.1:2584)' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -l hostname -d 'Public hostname (e.g. pds.example.com)' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -l dev -d 'Development mode: loopback, handles under .test, no invites, a built-in PLC directory'
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help'
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Print the resolved configuration (flags > PDSD_* environment > file > defaults), secrets redacted'
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from show" -s c -l config -d 'Configuration file (TOML); see examples/pdsd.toml for every option' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from show" -l data-dir -d 'Where data lives (database, blobs, secrets)' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from show" -l listen -d 'Address for the HTTP/XRPC server' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from show" -l plc-url -d 'External PLC directory URL (instead of the public one, or the built-in one in --dev)' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from show" -l socket -d 'Admin socket path (default: <data-dir>/pdsd.sock in --dev, /run/pdsd/admin.sock otherwise)' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from show" -l plc-listen -d 'Where the built-in PLC directory of --dev listens (default 127.0.0.1:2584)' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from show" -l hostname -d 'Public hostname (e.g. pds.example.com)' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from show" -l dev -d 'Development mode: loopback, handles under .test, no invites, a built-in PLC directory'
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the resolved configuration (flags > PDSD_* environment > file > defaults), secrets redacted'
complete -c pdsd -n "__fish_pdsd_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -l out -d 'Output folder' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -s c -l config -d 'Configuration file (TOML); see examples/pdsd.toml for every option' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -l data-dir -d 'Where data lives (database, blobs, secrets)' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -l listen -d 'Address for the HTTP/XRPC server' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -l plc-url -d 'External PLC directory URL (instead of the public one, or the built-in one in --dev)' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -l socket -d 'Admin socket path (default: <data-dir>/pdsd.sock in --dev, /run/pdsd/admin.sock otherwise)' -r -F
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -l plc-listen -d 'Where the built-in PLC directory of --dev listens (default 127.0.0.1:2584)' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -l hostname -d 'Public hostname (e.g. pds.example.com)' -r
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -l dev -d 'Development mode: loopback, handles under .test, no invites, a built-in PLC directory'
complete -c pdsd -n "__fish_pdsd_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsd -n "__fish_pdsd_using_subcommand help; and not __fish_seen_subcommand_from config generate help" -f -a "config" -d 'Inspect the configuration'
complete -c pdsd -n "__fish_pdsd_using_subcommand help; and not __fish_seen_subcommand_from config generate help" -f -a "generate" -d 'Write man pages or shell completions (used to keep man/ and completions/ current)'
complete -c pdsd -n "__fish_pdsd_using_subcommand help; and not __fish_seen_subcommand_from config generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsd -n "__fish_pdsd_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the resolved configuration (flags > PDSD_* environment > file > defaults), secrets redacted'
