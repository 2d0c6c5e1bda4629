from sentiment_cli.cli import main

main()
