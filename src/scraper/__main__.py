from scraper.commands.app import main

main()
