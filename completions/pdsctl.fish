# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pdsctl_global_optspecs
    string join \n socket= json y/yes h/help V/version
end

function __fish_pdsctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pdsctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pdsctl_using_subcommand
    set -l cmd (__fish_pdsctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pdsctl -n "__fish_pdsctl_needs_command" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_needs_command" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "status" -d 'Show the daemon\'s version, uptime, addresses, accounts, storage, PLC directory, relays and firehose position'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "account" -d 'Create, list, inspect and manage hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "invite" -d 'Make invite codes'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "did" -d 'Inspect an account\'s did:plc identity, or rotate its signing key'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "oauth" -d 'Show and revoke the third-party apps an account has authorized with OAuth'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "export" -d 'Export an account (repository CAR and every blob) into a folder'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "import" -d 'Import an exported folder into this pdsd, creating or migrating the account'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "generate" -d 'Write man pages or shell completions (keeps man/ and completions/ current)'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "create" -d 'Create an account: the daemon makes its DID (did:plc) and repository'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "list" -d 'List hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "show" -d 'Show one account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "deactivate" -d 'Deactivate an account (it stops being served; its data is kept)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "activate" -d 'Activate a deactivated account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "delete" -d 'Delete an account and all its data (asks first unless --yes)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "reset-password" -d 'Set a new password (asks for it twice unless --password-file)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "takedown" -d 'Take an account down (moderation): it is no longer served'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "untakedown" -d 'Lift a takedown'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l handle -d 'The handle, e.g. alice.pds.example.com (under one of the server\'s handle domains)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l email -d 'The account\'s e-mail address' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l password-file -d 'Read the password from FILE (its first line) instead of asking' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l recovery-key -d 'The user\'s existing rotation key (did:key), placed first in rotationKeys' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l generate-recovery-key -d 'Make the user\'s rotation key here, write it to FILE (mode 0600; never overwritten) and place it first in rotationKeys. Keep FILE offline: it controls the identity' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l curve -d 'Curve of the generated recovery key' -r -f -a "secp256k1\t''
p256\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -l password-file -d 'Read the new password from FILE (its first line) instead of asking' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -l reference -d 'A reference for your moderation records (default: made by pdsd)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an account: the daemon makes its DID (did:plc) and repository'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "list" -d 'List hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "deactivate" -d 'Deactivate an account (it stops being served; its data is kept)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "activate" -d 'Activate a deactivated account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete an account and all its data (asks first unless --yes)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "reset-password" -d 'Set a new password (asks for it twice unless --password-file)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "takedown" -d 'Take an account down (moderation): it is no longer served'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "untakedown" -d 'Lift a takedown'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -f -a "create" -d 'Make invite codes and print them, one per line'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l uses -d 'How many accounts each code may create' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l count -d 'How many codes to make' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l for-account -d 'Attribute the codes to this account (a DID) instead of the server' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from help" -f -a "create" -d 'Make invite codes and print them, one per line'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -f -a "show" -d 'Show the DID document, its keys (whose each is) and the PLC audit log'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -f -a "rotate-signing-key" -d 'Give the account a new signing key (the relay signs the PLC update with its rotation key; the user\'s key can still override it for 72 hours)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the DID document, its keys (whose each is) and the PLC audit log'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from help" -f -a "rotate-signing-key" -d 'Give the account a new signing key (the relay signs the PLC update with its rotation key; the user\'s key can still override it for 72 hours)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -f -a "list" -d 'Show the apps an account has authorized, with their live sessions'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -f -a "revoke" -d 'End an app\'s access: every session of a client_id, or one session by its id'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show the apps an account has authorized, with their live sessions'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'End an app\'s access: every session of a client_id, or one session by its id'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -l out -d 'Folder to write into (created if needed; an earlier export of the same account there is resumed)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -l out -d 'Output folder' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth export import generate help" -f -a "status" -d 'Show the daemon\'s version, uptime, addresses, accounts, storage, PLC directory, relays and firehose position'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth export import generate help" -f -a "account" -d 'Create, list, inspect and manage hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth export import generate help" -f -a "invite" -d 'Make invite codes'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth export import generate help" -f -a "did" -d 'Inspect an account\'s did:plc identity, or rotate its signing key'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth export import generate help" -f -a "oauth" -d 'Show and revoke the third-party apps an account has authorized with OAuth'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth export import generate help" -f -a "export" -d 'Export an account (repository CAR and every blob) into a folder'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth export import generate help" -f -a "import" -d 'Import an exported folder into this pdsd, creating or migrating the account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth export import generate help" -f -a "generate" -d 'Write man pages or shell completions (keeps man/ and completions/ current)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth export import generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "create" -d 'Create an account: the daemon makes its DID (did:plc) and repository'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "list" -d 'List hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "show" -d 'Show one account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "deactivate" -d 'Deactivate an account (it stops being served; its data is kept)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "activate" -d 'Activate a deactivated account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "delete" -d 'Delete an account and all its data (asks first unless --yes)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "reset-password" -d 'Set a new password (asks for it twice unless --password-file)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "takedown" -d 'Take an account down (moderation): it is no longer served'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "untakedown" -d 'Lift a takedown'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from invite" -f -a "create" -d 'Make invite codes and print them, one per line'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from did" -f -a "show" -d 'Show the DID document, its keys (whose each is) and the PLC audit log'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from did" -f -a "rotate-signing-key" -d 'Give the account a new signing key (the relay signs the PLC update with its rotation key; the user\'s key can still override it for 72 hours)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from oauth" -f -a "list" -d 'Show the apps an account has authorized, with their live sessions'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from oauth" -f -a "revoke" -d 'End an app\'s access: every session of a client_id, or one session by its id'
